"""
Migration: seed_admin_user
Created: 2024-10-12T09:00:00
Database: sqlite

A step SQL alone cannot express: Python runs after forward_sql, in the same transaction.
"""

from covet.database.migrations.runner import Migration


class SeedAdminUserMigration(Migration):
    """
    Create the first admin account with a normalised e-mail address.
    """

    dependencies = ["2024_10_11_150000_create_users"]

    forward_sql = [
        """ALTER TABLE users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0""",
    ]

    backward_sql = [
        """ALTER TABLE users DROP COLUMN is_admin""",
    ]

    async def forward(self, adapter):
        email = "Admin@Example.COM".lower()
        await adapter.execute(
            "INSERT INTO users (username, email, is_admin) VALUES (?, ?, 1)", ("admin", email)
        )

    async def backward(self, adapter):
        await adapter.execute("DELETE FROM users WHERE username = ?", ("admin",))
