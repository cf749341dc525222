"""The base class of every error a user can fix, shared by every layer (data, models, engine,
cli, gui): a module of its own at the root, so no layer imports another just for it."""


class UserError(Exception):
    """Bad input (a file, a folder, a setting). Its message is shown as is, without a traceback."""
