"""Database layer: SQLAlchemy 2 models, repositories, engine and Alembic migrations."""
