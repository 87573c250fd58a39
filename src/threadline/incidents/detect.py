"""The burst detector: pure, in memory, one per workspace (no database, no clock of its own).

Every public customer post is cut into terms (lower case, no handles, links or numbers, no
stop words, a light plural/verb stemming) and compared with the clusters of the rolling
window: cosine similarity between the post's terms and a cluster's term counts, each term
weighted by its inverse *cluster* frequency over the window (a word said in many different
stories, like the brand's own name, weighs little; a word said by many posts of one story,
like "login" in an outage, keeps its weight: a document frequency would make a burst's own
words look common exactly when the burst is large). Candidate clusters are
found through an inverted index from terms to the clusters that used them lately (bounded
lists, so a post costs about the same whatever the traffic), the best one at or above the
threshold takes the post, else the post starts a cluster of its own. A cluster becomes a
burst when it holds `min_posts` posts from as many different authors inside the window.

Clusters without an incident expire with the window; a cluster that became an incident lives
while the caller keeps it (`pin`), so late posts of an open incident still find it.
"""

from __future__ import annotations

import itertools
import math
import re
import uuid
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|&\w+;")
_STOP_WORDS = """
a about above after again against all also am an and any are aren as at be because been before
being below between both but by can cannot could did didn do does doesn doing don during
each few for from further get got had has have having he her here hers him his how i if in into
is isn it its itself just let me more most my myself no nor not now of off on once only or other
our ours out over own please same she should so some such than that the their them then there
these they this those through to too under until up very was wasn we were what when where which
while who whom why will with won would you your yours yourself hi hello hey thanks thank dm us
im ive ill id youre cant wont dont doesnt isnt wasnt amp via rt pls plz still already really
one two today yesterday tomorrow now again ever even way"""
STOP = frozenset(_STOP_WORDS.split())
MAX_TERMS = 24
MIN_TERMS = 2
# One word for what customers say many ways when a service fails (after stemming).
SAME = {"log": "login", "logon": "login", "signin": "login", "sign": "login", "logg": "login",
        "outage": "down", "offline": "down", "broken": "down", "broke": "down",
        "fail": "error", "failure": "error", "crash": "error", "crashe": "error"}


def terms_of(text: str) -> frozenset[str]:
    """The post's terms (at most MAX_TERMS, the first ones)."""
    words = WORD.findall(NOISE.sub(" ", text.lower()))
    out: list[str] = []
    for word in words:
        if word in STOP:
            continue
        stem = _stem(word)
        stem = SAME.get(stem, stem)
        if stem not in out and stem not in STOP:
            out.append(stem)
            if len(out) >= MAX_TERMS:
                break
    return frozenset(out)


def _stem(word: str) -> str:
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


@dataclass(frozen=True)
class DetectorSettings:
    window_seconds: float = 900.0
    max_singles: int = 20_000  # posts nobody echoed kept at most (the oldest go first)
    similarity: float = 0.35
    min_posts: int = 8
    min_authors: int = 0  # different authors a burst needs (0: as many as min_posts)
    candidates: int = 12  # clusters scored exactly per post
    postings: int = 32  # clusters remembered per term


@dataclass
class Cluster:
    id: uuid.UUID
    first_at: float
    last_at: float
    counts: Counter[str] = field(default_factory=Counter)
    weights: dict[str, float] = field(default_factory=dict)  # the weight each count used
    norm2: float = 0.0
    size: int = 0
    authors: set[str] = field(default_factory=set)
    incident_id: uuid.UUID | None = None
    pinned: bool = False
    alias: int | None = None  # the key of the cluster it was merged into
    key: int = 0  # the detector's own id (ints hash much faster than UUIDs)

    def shared_terms(self, at_least: int = 3, limit: int = 8) -> list[str]:
        """The cluster's most frequent terms that at least `at_least` posts share."""
        return [t for t, n in self.counts.most_common(limit) if n >= at_least]


@dataclass(frozen=True)
class Placement:
    cluster: Cluster
    similarity: float
    new_cluster: bool
    became_burst: bool  # this post made the cluster a burst (the caller creates an incident)
    merged: tuple[uuid.UUID, ...] = ()  # clusters this post showed to be the same: joined in


class BurstDetector:
    def __init__(self, settings: DetectorSettings | None = None) -> None:
        self.settings = settings or DetectorSettings()
        self.cf: Counter[str] = Counter()  # live clusters using each term
        self.live = 0  # live clusters (not merged away)
        self.clusters: dict[int, Cluster] = {}
        self.keys: dict[uuid.UUID, int] = {}
        self.index: dict[str, deque[int]] = {}
        self.pinned: set[int] = set()  # the clusters of live incidents
        self.young: deque[tuple[float, int]] = deque()  # clusters by birth
        self.grown: set[int] = set()  # clusters of two posts or more
        self._keys = itertools.count(1)
        self.seen = 0

    # --- window ------------------------------------------------------------------------------

    def _drop(self, cluster: Cluster) -> None:
        self.clusters.pop(cluster.key, None)
        self.keys.pop(cluster.id, None)
        self.grown.discard(cluster.key)
        if cluster.alias is not None:
            return
        self.live -= 1
        for t in cluster.counts:
            left = self.cf[t] - 1
            if left <= 0:
                del self.cf[t]
            else:
                self.cf[t] = left

    def _expire(self, now: float) -> None:
        """A post nobody echoed is forgotten after the window, or sooner when more than
        `max_singles` wait (memory stays bounded whatever the rate); a cluster of several
        posts lives until `window_seconds` after its last post, an incident's while the
        incident is live."""
        young, horizon = self.young, now - self.settings.window_seconds
        cap = self.settings.max_singles
        while young and (young[0][0] < horizon or len(young) > cap):
            _at, cid = young.popleft()
            cluster = self.clusters.get(cid)
            if cluster is not None and cluster.size <= 1 and not cluster.pinned:
                self._drop(cluster)
        if self.seen % 512:
            return
        horizon = now - self.settings.window_seconds
        for cid in list(self.grown):
            cluster = self.clusters.get(cid)
            if cluster is None:
                self.grown.discard(cid)
            elif not cluster.pinned and cluster.last_at < horizon:
                self._drop(cluster)
        for cluster in [c for c in self.clusters.values()
                        if c.alias is not None and self._get(c.key) is None]:
            self._drop(cluster)  # merged into a cluster that is gone now

    def get(self, cluster_id: uuid.UUID) -> Cluster | None:
        """A cluster by id, following merges to the cluster that holds its posts now."""
        key = self.keys.get(cluster_id)
        return self._get(key) if key is not None else None

    def _get(self, key: int) -> Cluster | None:
        cluster = self.clusters.get(key)
        hops = 0
        while cluster is not None and cluster.alias is not None and hops < 64:
            cluster = self.clusters.get(cluster.alias)
            hops += 1
        return cluster

    def _weight(self, term: str) -> float:
        return math.log((self.live + 1) / (self.cf.get(term, 0) + 1)) + 1.0

    # --- placing a post ----------------------------------------------------------------------

    def add(self, at: float, terms: frozenset[str], author: str = "",
            cluster_id: uuid.UUID | None = None) -> Placement:
        """Place a post seen at `at` (seconds): in `cluster_id` when given (replaying stored
        membership), else in the most similar live cluster or a new one."""
        self.seen += 1
        self._expire(at)
        weights = {t: self._weight(t) for t in terms}
        best: Cluster | None = None
        score = 0.0
        others: list[Cluster] = []
        if cluster_id is not None:
            best = self.get(cluster_id)
        elif len(terms) >= MIN_TERMS:  # "Sent!", "ok thanks": too little to tell a story
            above = self._above(at, weights)
            if above:
                score, best = above[0]
                others = [c for _s, c in above[1:]]
        new = best is None
        if best is None:
            best = Cluster(id=cluster_id or uuid.uuid4(), first_at=at, last_at=at,
                           key=next(self._keys))
            self.clusters[best.key] = best
            self.keys[best.id] = best.key
            self.live += 1
            self.young.append((at, best.key))
        if new and cluster_id is None and len(terms) < MIN_TERMS:
            best.size, best.last_at = 1, at  # alone, never found, expires with the window
            return Placement(best, 0.0, True, False)
        was_burst = self.is_burst(best)
        merged = []
        for other in others:
            if other is best or (other.incident_id and best.incident_id):
                continue
            if other.incident_id and not best.incident_id:
                best, other = other, best
                was_burst = self.is_burst(best)
            merged.append(other.id)
            self.merge_into(other.id, best.id)
        self._join(best, at, weights, author)
        if best.incident_id is None and best.size >= 2:
            home = self._incident_like(best)
            if home is not None:  # a small cluster of the same story as a live incident
                merged.append(best.id)
                self.merge_into(best.id, home.id)
                return Placement(home, score, new, False, tuple(merged))
        return Placement(best, score, new, not was_burst and self.is_burst(best),
                         tuple(merged))

    def _incident_like(self, cluster: Cluster) -> Cluster | None:
        """The live incident's cluster whose profile is as similar to `cluster`'s as a post
        must be (centroid cosine), if any."""
        best: Cluster | None = None
        best_score = self.settings.similarity
        for key in self.pinned:
            other = self._get(key)
            if other is None or other is cluster or other.norm2 <= 0 or cluster.norm2 <= 0:
                continue
            small, large = ((cluster, other) if len(cluster.counts) <= len(other.counts)
                            else (other, cluster))
            dot = sum(small.weights[t] * n * large.weights.get(t, 0.0) * large.counts.get(t, 0)
                      for t, n in small.counts.items())
            score = dot / math.sqrt(cluster.norm2 * other.norm2)
            if score >= best_score:
                best, best_score = other, score
        return best

    def _above(self, at: float, weights: dict[str, float]) -> list[tuple[float, Cluster]]:
        """The live clusters this post is similar enough to, most similar first. A cluster
        sharing terms of squared weight s cannot score above sqrt(s) / |post|
        (Cauchy-Schwarz), so those that cannot reach the threshold are never scored."""
        shared: dict[int, float] = {}
        index = self.index
        for t, w in weights.items():
            posting = index.get(t)
            if posting:
                w2 = w * w
                for cid in posting:
                    shared[cid] = shared.get(cid, 0.0) + w2
        if not shared:
            return []
        norm2_p = sum(w * w for w in weights.values())
        need = self.settings.similarity ** 2 * norm2_p
        hopeful = [(s, cid) for cid, s in shared.items() if s >= need]
        if not hopeful:
            return []
        hopeful.sort(reverse=True)
        horizon = at - self.settings.window_seconds
        norm_p = math.sqrt(norm2_p)
        found: dict[int, tuple[float, Cluster]] = {}
        for _s, cid in hopeful[:self.settings.candidates]:
            cluster = self._get(cid)
            if cluster is None or id(cluster) in found or cluster.norm2 <= 0 or (
                    cluster.last_at < horizon and not cluster.pinned):
                continue
            cw, cc = cluster.weights, cluster.counts
            dot = 0.0
            for t, w in weights.items():
                n = cc.get(t)
                if n:
                    dot += w * cw[t] * n
            score = dot / (norm_p * math.sqrt(cluster.norm2))
            if score >= self.settings.similarity:
                found[id(cluster)] = (score, cluster)
        return sorted(found.values(), key=lambda sc: sc[0], reverse=True)

    def _join(self, cluster: Cluster, at: float, weights: dict[str, float],
              author: str) -> None:
        counts, old = cluster.counts, cluster.weights
        norm2 = cluster.norm2
        for t, w in weights.items():
            n = counts.get(t, 0)
            if n:
                norm2 -= (old[t] * n) ** 2
            else:
                self.cf[t] += 1
            n += 1
            counts[t] = n
            old[t] = w
            norm2 += (w * n) ** 2
            posting = self.index.get(t)
            if posting is None:
                posting = self.index[t] = deque(maxlen=self.settings.postings)
            if cluster.key not in posting:  # a term's posting names each cluster once
                posting.append(cluster.key)
        cluster.norm2 = max(norm2, 0.0)
        cluster.size += 1
        if cluster.size == 2:
            self.grown.add(cluster.key)
        cluster.last_at = max(cluster.last_at, at)
        cluster.first_at = min(cluster.first_at, at)
        if author:
            cluster.authors.add(author)

    def is_burst(self, cluster: Cluster) -> bool:
        need = self.settings.min_posts
        authors = min(need, self.settings.min_authors or need)
        return cluster.size >= need and (not cluster.authors or len(cluster.authors) >= authors)

    def pin(self, cluster_id: uuid.UUID, incident_id: uuid.UUID | None, pinned: bool) -> None:
        cluster = self.get(cluster_id)
        if cluster is not None:
            cluster.incident_id = incident_id
            cluster.pinned = pinned
            if pinned:
                self.pinned.add(cluster.key)
            else:
                self.pinned.discard(cluster.key)

    def merge_into(self, source: uuid.UUID, target: uuid.UUID) -> None:
        """Clusters of one incident (a supervisor put several bursts together) answer as one:
        the target takes the source's counts."""
        src, dst = self.get(source), self.get(target)
        if src is None or dst is None or src is dst:
            return
        for t, n in src.counts.items():
            if t in dst.counts:
                self.cf[t] -= 1  # two clusters used it, one does now
            dst.counts[t] += n
            dst.weights[t] = src.weights.get(t, dst.weights.get(t, 1.0))
        dst.norm2 = sum((dst.weights[t] * n) ** 2 for t, n in dst.counts.items())
        dst.size += src.size
        dst.authors |= src.authors
        dst.first_at = min(dst.first_at, src.first_at)
        dst.last_at = max(dst.last_at, src.last_at)
        src.alias = dst.key  # its id now names the cluster it joined
        self.live -= 1
        self.grown.discard(src.key)
        self.pinned.discard(src.key)
        src.counts = Counter()
        src.weights = {}


def replay(detector: BurstDetector, posts: Iterable[tuple[float, str, str]]) -> list[Placement]:
    """Run texts (at, text, author) through a detector in order (the benches, the twcs scan)."""
    return [detector.add(at, terms_of(text), author) for at, text, author in posts]
