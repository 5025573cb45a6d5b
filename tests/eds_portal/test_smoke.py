import pytest
from django.urls import reverse

from tests.conftest import login


@pytest.mark.django_db
def test_home_for_dpo(client, dpo):
    login(client, dpo)
    response = client.get(reverse("home"))
    assert response.status_code == 200
