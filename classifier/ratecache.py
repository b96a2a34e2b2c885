"""The database cache with an atomic `incr`, so rate-limit counters shared by every worker and
dyno through the database never lose a concurrent hit (Django's DatabaseCache.incr is a plain
read-then-write)."""
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction


class AtomicDatabaseCache(DatabaseCache):
    """DatabaseCache whose incr holds the row's lock (SELECT ... FOR UPDATE; on SQLite the
    IMMEDIATE transaction takes the database's write lock) from the read to the write."""

    def incr(self, key, delta=1, version=None):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        with transaction.atomic(using=db):
            if connection.features.has_select_for_update:
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT cache_key FROM {table} WHERE cache_key = %s "
                                   f"FOR UPDATE", [self.make_and_validate_key(key, version)])
            return super().incr(key, delta, version)
