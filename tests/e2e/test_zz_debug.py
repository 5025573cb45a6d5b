import contextvars
import pytest
from django.db import connections

pytestmark = pytest.mark.e2e


def test_a(db):
    print("\nDEBUG a", id(connections["default"]), hasattr(connections["default"], "_test_serialized_contents"), len(contextvars.copy_context()))


def test_b(db, browser):
    print("\nDEBUG b", id(connections["default"]), hasattr(connections["default"], "_test_serialized_contents"), len(contextvars.copy_context()))
    
    
def test_c(transactional_db, django_db_serialized_rollback):
    print("\nDEBUG c", id(connections["default"]), hasattr(connections["default"], "_test_serialized_contents"), len(contextvars.copy_context()))
