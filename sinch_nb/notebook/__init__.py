"""IPython magics and notebook displays; nothing imports this room but the package face."""
