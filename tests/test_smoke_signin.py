"""A patient signs in with number and code; the full happy path through the pages."""

from tests.conftest import CapturingSms, Client, World


def test_patient_signs_in_with_sms_code_and_lands_on_home(
    client: Client, world: World, sms: CapturingSms
) -> None:
    phone = world.patient_x.user.phone
    assert phone is not None
    response = client.submit("/sign-in", {"phone": phone})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/sign-in/code")
    assert len(sms.sent) == 1 and sms.sent[0].to == phone
    response = client.submit("/sign-in/code", {"code": sms.last_code(phone)})
    assert response.headers["Location"].endswith("/me/")
    home = client.get("/me/")
    assert home.status_code == 200
    assert "Xena Pasient" in home.text
