"""What a dashboard is, for the desktop, the API and the CSV export alike: headline numbers,
charts and tables, each number carrying the drill-down criteria of the conversations behind
it (added to the dashboard's filters)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

Unit = Literal["count", "percent", "minutes", "hours", "seconds", "money", "ratio", "score",
               "text"]


class Group(StrEnum):
    quantity = "quantity"
    quality = "quality"
    feedback = "feedback"
    outcome = "outcome"
    economics = "economics"
    journeys = "journeys"


TITLES = {Group.quantity: "Quantity", Group.quality: "Quality",
          Group.feedback: "Customer feedback", Group.outcome: "Outcome",
          Group.economics: "Economics", Group.journeys: "Journeys"}


class Metric(BaseModel):
    key: str
    label: str
    value: float | None = Field(description="None when there is nothing to measure.")
    unit: Unit
    hint: str = ""
    drill: dict[str, str] | None = Field(
        default=None, description="The criteria (added to the filters) of the conversations "
                                  "behind the number: GET /api/v1/kpis/conversations.")


class Series(BaseModel):
    name: str
    values: list[float | None]
    drill: dict[str, str] = Field(default_factory=dict,
                                  description="Criteria every point of the series adds.")


class Link(BaseModel):
    source: int
    target: int
    value: float


class Chart(BaseModel):
    key: str
    title: str
    kind: Literal["line", "bar", "stacked", "hbar", "sankey"]
    unit: Unit
    x_label: str = ""
    y_label: str = ""
    categories: list[str] = Field(default_factory=list, description="Labels of the x axis.")
    category_drill: list[dict[str, str]] = Field(
        default_factory=list, description="Per category: the criteria it adds.")
    series: list[Series] = Field(default_factory=list)
    point_drill: list[list[dict[str, str]]] = Field(
        default_factory=list, description="Per series, per category: the criteria of that "
                                          "point (when the category's and series' do not say "
                                          "it).")
    nodes: list[str] = Field(default_factory=list, description="Sankey: the nodes' labels.")
    node_drill: list[dict[str, str]] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list, description="Sankey: flows by node index.")


class Column(BaseModel):
    key: str
    label: str
    unit: Unit
    drill: dict[str, str] = Field(default_factory=dict,
                                  description="Criteria a cell of this column adds to its "
                                              "row's.")


class Row(BaseModel):
    label: str
    cells: list[float | str | None]
    drill: dict[str, str] | None = Field(default=None, description="The row's criteria; a "
                                         "cell adds its column's (None: not a drill-down).")
    cell_drill: list[dict[str, str]] | None = Field(
        default=None, description="Per cell: its own criteria instead (a matrix).")


class Table(BaseModel):
    key: str
    title: str
    columns: list[Column]
    rows: list[Row]


class Dashboard(BaseModel):
    group: Group
    title: str
    filters: dict[str, str] = Field(description="The filters applied, as query parameters.")
    metrics: list[Metric] = Field(default_factory=list)
    charts: list[Chart] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


class FactsRow(BaseModel):
    """One conversation's facts (docs/kpis.md), as the drill-down and the API list them."""

    conversation_id: uuid.UUID
    customer_id: uuid.UUID | None
    team_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    resolved_by_id: uuid.UUID | None
    status: str
    category: str | None
    priority: int
    relevance: str | None
    origin_channel: str | None
    origin_visibility: str | None
    origin_account_id: uuid.UUID | None
    origin_source: str | None
    resolved_channel: str | None
    resolved_visibility: str | None
    journey: str
    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    first_response_s: float | None
    first_response_business_s: float | None
    next_responses: int
    next_response_total_s: float
    next_response_max_s: float | None
    resolution_s: float | None
    resolution_business_s: float | None
    reopen_count: int
    customer_messages: int
    agent_messages: int
    episodes: int
    segments: int
    channels: int
    handle_s: float
    public_to_private: bool
    hop_offered_s: float | None
    hop_taken: bool | None
    returned_to_origin: bool | None
    return_delay_s: float | None
    fcr: bool | None
    sla_first_response_met: bool | None
    sla_resolution_met: bool | None
    sentiment_start: str | None
    sentiment_end: str | None


FACT_COLUMNS = tuple(FactsRow.model_fields)


class FactsPage(BaseModel):
    items: list[FactsRow]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; None at "
                                                "the end.")


class OriginIn(BaseModel):
    origin_source: str | None = Field(
        max_length=60, description="store, order_page, website, phone, email_newsletter, print, "
                                   "event, referral, or campaign:<name>; null to clear.")
