"""The connection to the server and what runs on it: connecting (libpq's settings, a password
asked for once), the session (one transaction, its statements, errors said plainly, a lost
connection replaced), cancelling, and the settings every session shares.
"""
