"""The CLI's CPU policy: the wait policy follows the load, the thread count never does."""
from engine.cpu_policy import apply_cli_policy, busy_cpus, choose, default_threads, usable_cpus


def test_idle_spins_and_busy_waits_passively():
    assert choose(2, 0.2).wait_policy is None
    assert choose(2, 0.7).wait_policy == "PASSIVE" and "busy" in choose(2, 0.7).reason


def test_the_load_never_sets_the_thread_count_and_the_users_settings_win(monkeypatch):
    monkeypatch.setattr("engine.cpu_policy.busy_cpus", lambda cpus: float(cpus))  # everything busy
    env = {}
    policy = apply_cli_policy(env)
    assert env == {"OMP_WAIT_POLICY": "PASSIVE", "LTS_CPU_POLICY": policy.reason} and "busy" in policy.reason
    env = {"OMP_WAIT_POLICY": "ACTIVE"}
    assert apply_cli_policy(env).reason == "set by the user" and env["OMP_WAIT_POLICY"] == "ACTIVE"


def test_the_default_thread_count_is_the_users_export_else_one_per_cpu():
    assert default_threads({}) == usable_cpus()
    assert default_threads({"OMP_NUM_THREADS": "3"}) == 3
    assert default_threads({"OMP_NUM_THREADS": "many"}) == default_threads({"OMP_NUM_THREADS": "0"}) == usable_cpus()


def test_busy_cpus_is_a_fraction_of_the_cpus():
    assert 0.0 <= busy_cpus(2, sample_seconds=0.02) <= 2.0
