"""Find people by the ids coordinators use ('v007', 'c017'), or say clearly that there is none."""

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from carecal.errors import NotFound
from carecal.models import Client, Volunteer

Person = TypeVar("Person", Volunteer, Client)


def by_external_id(session: Session, model: type[Person], external_id: str) -> Person:
    found = session.scalars(select(model).where(model.external_id == external_id)).one_or_none()
    if found is None:
        noun = model.__tablename__
        raise NotFound(f"no {noun} with id {external_id!r} (see `carecal {noun} list`)")
    return found


def volunteer(session: Session, external_id: str) -> Volunteer:
    return by_external_id(session, Volunteer, external_id)


def client(session: Session, external_id: str) -> Client:
    return by_external_id(session, Client, external_id)
