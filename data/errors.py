"""The base class of every error a user can fix. Lives in the lowest layer so all layers share it."""


class UserError(Exception):
    """Bad input (a file, a folder, a setting). Its message is shown as is, without a traceback."""


class DatasetError(UserError):
    """A dataset is missing, unreadable or empty; the message says which folder and what to do."""
