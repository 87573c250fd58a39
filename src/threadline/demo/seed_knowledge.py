"""Demo knowledge base: a few published articles in English and Spanish (orders, refunds,
delivery, account), with the customer questions each answers, so the help centre
(`/help/<workspace>`), the web chat's Help panel, the composer's suggestions and the
self-service bot have something to show. Idempotent: a workspace with articles is left
alone."""

from __future__ import annotations

import uuid

from sqlalchemy import exists, select

from threadline.conversations.service import SYSTEM
from threadline.jobs.runtime import Runtime
from threadline.knowledge.models import Article
from threadline.knowledge.schemas import ArticleIn
from threadline.knowledge.service import publish_article, save_article

ARTICLES: tuple[dict[str, object], ...] = (
    {"title": "Where is my order?", "category": "Orders & delivery", "language": "en",
     "tags": ["orders", "delivery", "tracking"],
     "questions": ["where is my order", "my parcel has not arrived", "track my package",
                   "when will my order arrive"],
     "body": "Every order gets a **tracking link** by email as soon as it leaves our "
             "warehouse.\n\n1. Open the confirmation email.\n2. Follow *Track my parcel*.\n\n"
             "Standard delivery takes **2–4 business days**. If the tracking has not moved "
             "for 3 days, write to us with your order number and we will chase the courier."},
    {"title": "How refunds work", "category": "Returns & refunds", "language": "en",
     "tags": ["refunds", "returns", "money"],
     "questions": ["when will I get my refund", "refund not received",
                   "how long does a refund take", "I want my money back"],
     "body": "Refunds go back to the card you paid with **5 business days** after the "
             "returned item reaches us.\n\n| Paid with | Refund arrives |\n|---|---|\n"
             "| Card | 5 business days |\n| PayPal | 2 business days |\n\n"
             "You get an email when we issue it."},
    {"title": "Return an item", "category": "Returns & refunds", "language": "en",
     "tags": ["returns"],
     "questions": ["how do I return an item", "send something back", "return policy"],
     "body": "You have **30 days** to return an item in its original packaging.\n\n"
             "1. Open *Orders* in your account.\n2. Choose **Return** next to the item.\n"
             "3. Print the free label and drop the parcel at any post office."},
    {"title": "Reset your password", "category": "Your account", "language": "en",
     "tags": ["account", "password", "login"],
     "questions": ["I forgot my password", "can't log in", "reset password"],
     "body": "On the sign-in page choose **Forgot password?** and enter your email. The "
             "link we send is valid for one hour.\n\nNever share the link or your password "
             "with anyone — our team will never ask for it."},
    {"title": "¿Dónde está mi pedido?", "category": "Pedidos y envíos", "language": "es",
     "tags": ["pedidos", "envíos"],
     "questions": ["dónde está mi pedido", "mi paquete no ha llegado", "seguir mi envío"],
     "body": "Cada pedido recibe un **enlace de seguimiento** por correo cuando sale del "
             "almacén. La entrega estándar tarda **2–4 días laborables**."},
    {"title": "Cómo funcionan los reembolsos", "category": "Devoluciones y reembolsos",
     "language": "es", "tags": ["reembolsos", "devoluciones"],
     "questions": ["cuándo recibo mi reembolso", "no me ha llegado el reembolso"],
     "body": "El reembolso vuelve a tu tarjeta **5 días laborables** después de que "
             "recibamos el artículo devuelto. Te avisamos por correo."},
)


def seed_knowledge(runtime: Runtime, workspace_id: uuid.UUID) -> int:
    """Publish the demo's articles once; returns how many were added."""
    with runtime.db.session() as session:
        if session.scalar(select(exists().where(Article.workspace_id == workspace_id))):
            return 0
        for raw in ARTICLES:
            article = save_article(session, workspace_id, ArticleIn.model_validate(raw),
                                   SYSTEM)
            publish_article(session, workspace_id, article.id, SYSTEM)
    return len(ARTICLES)
