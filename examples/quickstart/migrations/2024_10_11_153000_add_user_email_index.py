"""
Migration: add_user_email_index
Created: 2024-10-11T15:30:00
Database: sqlite
"""

from covet.database.migrations.runner import Migration


class AddUserEmailIndexMigration(Migration):
    """
    Add index on user email column for faster lookups.
    """

    dependencies = ["2024_10_11_150000_create_users"]

    forward_sql = [
        """CREATE INDEX idx_user_email ON users(email)""",
        """ANALYZE users""",
    ]

    backward_sql = [
        """DROP INDEX idx_user_email""",
    ]
