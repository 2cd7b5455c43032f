"""Each feature app's factories build valid rows."""

import pytest

from messaging.autoreply.tests.factories import AutoReplyContentFactory
from messaging.inbound.tests.factories import InboundMessageFactory
from messaging.kefu.tests.factories import ConversationFactory, KfAccountFactory, OutboundMessageFactory
from messaging.mass.tests.factories import MassBatchFactory, MassMessageEventFactory
from messaging.templatemsg.tests.factories import TemplateMessageFactory, TemplatePushFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    "factory",
    [
        InboundMessageFactory,
        AutoReplyContentFactory,
        KfAccountFactory,
        ConversationFactory,
        OutboundMessageFactory,
        TemplatePushFactory,
        TemplateMessageFactory,
        MassBatchFactory,
        MassMessageEventFactory,
    ],
)
def test_the_factory_builds_a_row_that_passes_the_model_checks(factory):
    row = factory()
    row.full_clean(exclude=["avatar"])
    assert type(row).objects.filter(pk=row.pk).exists()
