"""The CLI's CPU policy: spin on an idle machine, passive waiting and fewer threads on a busy one."""
from engine.cpu_policy import apply_cli_policy, busy_cpus, choose


def test_idle_keeps_the_defaults_and_busy_waits_passively_on_the_free_cpus():
    idle = choose(2, 0.2)
    assert (idle.wait_policy, idle.threads) == (None, None)
    assert (choose(2, 0.7).wait_policy, choose(2, 0.7).threads) == ("PASSIVE", 1)
    assert choose(2, 9.0).threads == 1  # at least one thread
    assert choose(16, 4.2).threads == 12


def test_the_users_settings_win_and_the_decision_is_recorded(monkeypatch):
    monkeypatch.setattr("engine.cpu_policy.busy_cpus", lambda cpus: float(cpus))  # everything busy
    env = {"OMP_NUM_THREADS": "3"}
    policy = apply_cli_policy(env)
    assert env["OMP_WAIT_POLICY"] == "PASSIVE" and env["OMP_NUM_THREADS"] == "3"
    assert env["LTS_CPU_POLICY"] == policy.reason and "busy" in policy.reason
    env = {"OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "ACTIVE"}
    assert apply_cli_policy(env).reason == "set by the user" and env["OMP_WAIT_POLICY"] == "ACTIVE"


def test_busy_cpus_is_a_fraction_of_the_cpus():
    assert 0.0 <= busy_cpus(2, sample_seconds=0.02) <= 2.0
