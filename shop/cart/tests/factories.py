from datetime import timedelta

import factory
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from shop.cart.models import Cart, CartLine
from shop.catalog.tests.factories import BookFactory


class SessionFactory(factory.django.DjangoModelFactory):
    """A live session row, as SessionStore.create() would write it."""

    class Meta:
        model = Session

    session_key = factory.LazyFunction(lambda: SessionStore()._get_new_session_key())
    session_data = factory.LazyFunction(lambda: SessionStore().encode({"has_cart": True}))
    expire_date = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cart

    session = factory.SubFactory(SessionFactory)


class CartLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CartLine

    cart = factory.SubFactory(CartFactory)
    book = factory.SubFactory(BookFactory)
    quantity = 1
