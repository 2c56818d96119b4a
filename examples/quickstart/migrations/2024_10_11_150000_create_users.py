"""
Migration: create_users
Created: 2024-10-11T15:00:00
Database: sqlite
"""

from covet.database.migrations.runner import Migration


class CreateUsersMigration(Migration):
    """
    The users table.
    """

    dependencies = []

    forward_sql = [
        """CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            username VARCHAR(50) NOT NULL UNIQUE,
            email VARCHAR(255)
        )""",
    ]

    backward_sql = [
        """DROP TABLE users""",
    ]
