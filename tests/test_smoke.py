from tests.conftest import login
from tests.factories import make_world


async def test_office_signs_in_and_sees_units(client):
    world = await make_world()
    response = await login(client, world.slug, "office")
    assert response.status_code == 303
    page = await client.get(f"/t/{world.slug}/units")
    assert page.status_code == 200
    assert "甲区财政局" in page.text
