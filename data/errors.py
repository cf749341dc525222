"""The data layer's own error."""
from errors import UserError


class DatasetError(UserError):
    """A dataset is missing, unreadable or empty; the message says which folder and what to do."""
