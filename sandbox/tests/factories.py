"""The offline WeChat's own rows that tests set up: faults to inject, and what WeChat already holds (followers,
tags, customer-service accounts). Each takes the sandbox app (the ``sandbox_app`` fixture)."""

import factory

from sandbox.models import SandboxFault, SandboxFollower, SandboxKfAccount, SandboxTag


class SandboxFaultFactory(factory.django.DjangoModelFactory):
    """An answer WeChat gives instead of the normal one (errcode, latency, timeout), for ``remaining`` calls."""

    class Meta:
        model = SandboxFault

    kind = SandboxFault.Kind.ERRCODE


class SandboxFollowerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SandboxFollower

    openid = factory.Sequence(lambda n: f"oSandbox{n:019d}")


class SandboxTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SandboxTag

    tagid = factory.Sequence(lambda n: 100 + n)
    name = factory.Sequence(lambda n: f"标签 {n}")


class SandboxKfAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SandboxKfAccount

    kf_account = factory.Sequence(lambda n: f"kf{n}@gh_sandbox")
    kf_id = factory.Sequence(lambda n: str(1000 + n))
    nickname = "客服"
