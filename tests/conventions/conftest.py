"""Fixtures of the conventions tests: `foreign_seal` is another self-signed key, not ours.
The platform's own seal is configured for every test by tests/conftest.py."""

import pytest

from conventions.management.commands.generate_seal_certificate import make_seal_pkcs12
from tests.conftest import SEAL_NAME, SEAL_PASSPHRASE  # noqa: F401 - used by tests here


@pytest.fixture(scope="session")
def foreign_seal(tmp_path_factory):
    """A `Seal` from another self-signed key, with the same name as ours."""
    from pyhanko.sign import signers

    from conventions.pdf.sealing import Seal

    data = make_seal_pkcs12(common_name=SEAL_NAME, organisation="Autre", passphrase="x")
    return Seal(signer=signers.SimpleSigner.load_pkcs12_data(data, [], passphrase=b"x"))
