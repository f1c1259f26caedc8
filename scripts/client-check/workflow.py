"""A short workflow through the Python client that openapi-python-client generated from
api-spec/openapi.yaml with its default settings (scripts/client-check.sh): a conference, a
delegation with its role and head, a member, the letter of credentials uploaded and downloaded,
and errors read as the generated `Problem` model. Every answer is the generated model of its
status, or the check fails.

Usage: workflow.py BASE_URL TOKEN (the package `plenary_client` on the path).
"""

import datetime
import io
import os
import sys
import uuid

# scripts/, for the PDF.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from minimal_pdf import minimal_pdf  # noqa: E402

from plenary_client import AuthenticatedClient, Client  # noqa: E402
from plenary_client.api.accreditation import (  # noqa: E402
    get_credentials_document,
    submit_credentials,
)
from plenary_client.api.conferences import create_conference, get_conference  # noqa: E402
from plenary_client.api.delegations import create_delegations  # noqa: E402
from plenary_client.api.members import create_member  # noqa: E402
from plenary_client.models import (  # noqa: E402
    Conference,
    ConferenceCreate,
    Credentials,
    CredentialsStatus,
    Delegation,
    DelegationCreate,
    DelegationHeadInput,
    DelegationRole,
    Member,
    MemberCategory,
    MemberCreate,
    Problem,
    ProblemType,
    VenueInput,
)
from plenary_client.types import File  # noqa: E402


STEPS = []


def expect(response, model, status):
    """The parsed answer, which must be `model` with `status`."""
    STEPS.append(model.__name__)
    parsed = response.parsed
    if response.status_code != status or not isinstance(parsed, model):
        raise SystemExit(
            f"expected {status} {model.__name__}, got {int(response.status_code)} "
            f"{type(parsed).__name__}: {response.content[:300]!r}"
        )
    return parsed


def main(base, token):
    client = AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True)
    anonymous = Client(base_url=base, raise_on_unexpected_status=True)

    conference = expect(
        create_conference.sync_detailed(
            client=client,
            body=ConferenceCreate(
                title="Client check: Regional Consultation on Labour Migration",
                start_date=datetime.date(2026, 10, 20),
                end_date=datetime.date(2026, 10, 21),
                time_zone="Asia/Bangkok",
                venue=VenueInput(city="Bangkok", country="TH", name="UN Conference Centre"),
            ),
        ),
        Conference,
        201,
    )
    print(f"conference {conference.id}: {conference.title!r}, {conference.time_zone}")

    delegation = expect(
        create_delegations.sync_detailed(
            conference.id,
            client=client,
            body=DelegationCreate(
                country="Viet Nam",
                role=DelegationRole.OBSERVER,
                authority="Ministry of Labour, Invalids and Social Affairs",
                head=DelegationHeadInput(name="NGUYỄN Văn An", title="Vice-Minister"),
                size=3,
            ),
        ),
        Delegation,
        201,
    )
    head = delegation.head
    assert delegation.country == "VN" and delegation.role == DelegationRole.OBSERVER
    assert head is not None and head.name == "NGUYỄN Văn An" and delegation.size == 3
    print(
        f"delegation {delegation.id}: {delegation.country}, role {delegation.role.value}, "
        f"head {head.name} ({head.title}), size {delegation.size}, "
        f"status {delegation.status.value}, credentials {delegation.credentials.value}"
    )

    member = expect(
        create_member.sync_detailed(
            conference.id,
            delegation.id,
            client=client,
            body=MemberCreate(
                full_name="TRẦN Thị Bình",
                family_name="TRẦN",
                honorific="Ms.",
                position="Director, Department of Overseas Labour",
                category=MemberCategory.ALTERNATE,
            ),
        ),
        Member,
        201,
    )
    print(f"member {member.id}: {member.full_name}, {member.category.value}")

    pdf = minimal_pdf(b"Letter of credentials, client check")
    credentials = expect(
        submit_credentials.sync_detailed(
            conference.id,
            delegation.id,
            client=client,
            body=File(payload=io.BytesIO(pdf), file_name="credentials.pdf"),
        ),
        Credentials,
        200,
    )
    assert credentials.status == CredentialsStatus.SUBMITTED and credentials.bytes_ == len(pdf)
    print(f"credentials {credentials.status.value}: {credentials.bytes_} bytes, sha256 {credentials.sha256}")
    document = expect(
        get_credentials_document.sync_detailed(conference.id, delegation.id, client=client),
        File,
        200,
    )
    assert document.payload.read() == pdf
    print(f"credentials document downloaded: {len(pdf)} bytes, identical")

    # Errors: each one the generated Problem model, its type an enum member.
    missing = expect(get_conference.sync_detailed(uuid.uuid4(), client=anonymous), Problem, 404)
    assert missing.type_ == ProblemType.NOT_FOUND and missing.status == 404
    print(f"problem {missing.status} {missing.type_.value}: {missing.detail}")
    twice = expect(
        create_delegations.sync_detailed(
            conference.id, client=client, body=DelegationCreate(country="VN")
        ),
        Problem,
        409,
    )
    assert twice.type_ == ProblemType.CONFLICT
    print(f"problem {twice.status} {twice.type_.value}: {twice.detail}")
    invalid = expect(
        create_conference.sync_detailed(
            client=client,
            body=ConferenceCreate(
                title="Client check",
                start_date=datetime.date(2026, 10, 21),
                end_date=datetime.date(2026, 10, 20),
                time_zone="Mars/Olympus_Mons",
                venue=VenueInput(city="Bangkok", country="TH"),
            ),
        ),
        Problem,
        422,
    )
    fields = sorted(e.field for e in invalid.errors)
    assert invalid.type_ == ProblemType.VALIDATION_ERROR and fields == ["end_date", "time_zone"], fields
    print(f"problem {invalid.status} {invalid.type_.value}: {', '.join(fields)}")
    unauthorized = expect(
        create_conference.sync_detailed(
            client=AuthenticatedClient(base_url=base, token="not-a-token"),
            body=ConferenceCreate(
                title="x", start_date=datetime.date(2026, 1, 1), end_date=datetime.date(2026, 1, 1),
                time_zone="UTC", venue=VenueInput(city="Geneva", country="CH"),
            ),
        ),
        Problem,
        401,
    )
    print(f"problem {unauthorized.status} {unauthorized.type_.value}: {unauthorized.detail}")
    print(f"client workflow: {len(STEPS)} passed, 0 failed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
