"""Customer-care word lists, written for this project (no third-party lexicon besides VADER).

Each list is a regular expression over lower-cased text. They encode what care teams know: a post
to a brand that reports a problem is negative even without an angry word ("flight delayed 3h,
still no update"), thanks are positive, and a plain question is neutral.
"""

from __future__ import annotations

import re


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w'])(?:" + "|".join(alternatives) + r")(?![\w'])")


PROBLEM = _words(
    r"delay(?:ed|s|ing)?",
    r"cancel+(?:ed|ing|lation|lations)",
    r"late",
    r"later",
    r"lost",
    r"missing",
    r"stuck",
    r"stranded",
    r"on hold",
    r"hold",
    r"wait(?:ed|ing)?",
    r"hours?",
    r"hrs?",
    r"still",
    r"again",
    r"never",
    r"nobody",
    r"no one",
    r"no(?:body)? (?:response|reply|answer)",
    r"no help",
    r"rude",
    r"worst",
    r"terrible",
    r"horrible",
    r"awful",
    r"ridiculous",
    r"unacceptable",
    r"disappoint(?:ed|ing|ment)",
    r"frustrat(?:ed|ing|ion)",
    r"annoy(?:ed|ing)",
    r"broken?",
    r"damaged?",
    r"(?:over)?charged",
    r"fail(?:ed|s|ure|ing)?",
    r"error",
    r"issues?",
    r"problems?",
    r"(?:does|do|did|is|are|was|were|could|would|can|has|have|will)"
    r"(?:n't|nt| not)",
    r"can't",
    r"cant",
    r"cannot",
    r"won't",
    r"wont",
    r"unable",
    r"missed",
    r"denied",
    r"sucks?",
    r"wtf",
    r"seriously",
    r"complain(?:t|ts|ed|ing)?",
    r"poor(?:ly)?",
    r"bad",
    r"shame(?:ful)?",
    r"joke",
    r"pathetic",
    r"useless",
    r"disgust(?:ed|ing)",
    r"angry",
    r"upset",
    r"mad",
    r"hate",
    r"fix",
    r"crash(?:ed|es|ing)?",
    r"freez(?:es|ing)",
    r"froze",
    r"not working",
    r"stopped working",
    r"down",
    r"outage",
    r"refund",
    r"overbooked",
    r"bumped",
    r"misconnect(?:ed)?",
    r"diverted",
    r"mess",
    r"nightmare",
    r"fiasco",
    r"scam",
    r"robbed",
    r"stolen",
    r"wrong",
    r"incorrect",
    r"mistake",
    r"glitch",
    r"bug(?:gy)?",
    r"lag(?:gy|ging)?",
    r"slow",
    r"dead",
    r"empty",
    r"dirty",
    r"cold",
    r"unhelpful",
    r"no (?:one|service|wifi|signal|update|updates|info|information|notice|email|call)",
    r"why",
    r"hung up",
    r"charging me",
    r"lie[sd]?",
    r"lying",
    r"excuse",
    r"no (?!problem|prob|worries|worry|biggie|doubt)[a-z]+",
    r"w/o",
    r"without",
    r"zero",
    r"forgot",
    r"hostage",
    r"screw(?:ed|s)?(?: over| up)?",
    r"(?:would|could|should)(?: have|'ve)",
    r"too (?:long|late|many|much|small|heavy|expensive|slow|bad)",
    r"where (?:are|is) my",
    r"how about",
    r"real (?:person|human)",
    r"even though",
    r"only (?:one|two|\d+)",
    r"first and last",
    r"confus(?:ed|ing|ion)",
)

GRATITUDE = _words(
    r"thanks?",
    r"thank(?:s| you| u)",
    r"thx",
    r"ty",
    r"tysm",
    r"cheers",
    r"appreciate[sd]?",
    r"love[sd]?",
    r"loving",
    r"great",
    r"awesome",
    r"amazing",
    r"best",
    r"excellent",
    r"kudos",
    r"shout ?out",
    r"props",
    r"perfect",
    r"wonderful",
    r"fantastic",
    r"brilliant",
    r"you rock",
    r"helpful",
    r"happy",
    r"glad",
    r"pleased",
    r"impressed",
    r"beautiful",
    r"nice",
    r"superb",
    r"outstanding",
    r"favou?rite",
    r"smooth",
    r"well done",
    r"good job",
    r"friendly",
    r"enjoy(?:ed)?",
    r"fun",
    r"cool",
    r"yay",
    r"sweet",
    r"lovely",
    r"delighted",
)

# Problems that carry affect on their own (a subset of PROBLEM plus phrases PROBLEM lacks). A post
# with only *topical* problem words ("can I cancel online?", "will we be delayed?") that asks
# something is a question, not a complaint; with an affect word it is negative.
STRONG = _words(
    r"rude",
    r"worst",
    r"terrible",
    r"horrible",
    r"awful",
    r"ridiculous",
    r"unacceptable",
    r"disappoint(?:ed|ing|ment)",
    r"frustrat(?:ed|ing|ion)",
    r"annoy(?:ed|ing)",
    r"sucks?",
    r"wtf",
    r"pathetic",
    r"useless",
    r"disgust(?:ed|ing)",
    r"angry",
    r"upset",
    r"hate",
    r"nightmare",
    r"fiasco",
    r"scam",
    r"joke",
    r"shame(?:ful)?",
    r"unhelpful",
    r"incompetent",
    r"unprofessional",
    r"ruin(?:ed|s|ing)?",
    r"stranded",
    r"stuck",
    r"lame",
    r"bs",
    r"rip ?off",
    r"refuse[sd]?",
    r"not (?:very |that |too |so )?(?:happy|helpful|impressed|pleased|good|great|nice|okay|ok)",
    r"no (?:sympathy|apology|compensation|explanation|help|response|reply|answer)",
    r"(?:could|couldn't) care less",
    r"how dare",
    r"never again",
    r"(?:done|finished) with",
    r"(?:was|were|am|is) supposed to",
    r"promised",
    r"still (?:no|not|nothing|waiting|haven't|hasn't|don't|didn't)",
    r"waste(?:d)?",
    r"smh",
    r"ugh+",
    r"sigh",
    r"not (?:a )?priority",
    r"(?:should|shouldn't|should not|should've|should have) (?:be|have|been|not)",
    r"miss(?:ed)? my",
    r"lost my",
    r"anymore",
    r"hung up",
    r"lie[sd]?",
    r"lying",
    r"rebooked",
    r"(?:over)?charged",
    r"unacceptable",
    r"poor(?:ly)?",
    r"bad",
    r"fail(?:ed|s|ure|ing)?",
    r"mess(?:ed)?",
    r"nothing",
    r"nothin",
)

# Hashtags are single tokens ("#horriblecustomerservice"): read the stems inside them.
HASHTAG = re.compile(r"#(\w+)")
HASHTAG_NEGATIVE = re.compile(
    r"fail|worst|horribl|terribl|awful|rude|incompet|suck|never|ripoff|disappoint|unhapp|angry|"
    r"frustrat|stranded|delay|cancel|lost|shame|poor|bad|notcool|nothappy|boycott|lies|liar|"
    r"worse|fml|smh|ugh|rip|help"
)
HASHTAG_POSITIVE = re.compile(r"love|great|best|thank|awesome|happy|amazing|win|kudos|yay|fan")

# Thanks that are politeness in a request ("can you look at my booking? thanks"), not praise.
POLITE = _words(r"thanks?", r"thank(?:s| you| u)(?: (?:so|very) much)?", r"thx", r"ty", r"cheers",
                r"please", r"pls", r"plz", r"appreciate(?:d)?(?: it)?")
REQUEST = _words(r"please", r"pls", r"plz", r"can (?:you|u|i|we)", r"could (?:you|u|i|we)",
                 r"would (?:you|u)", r"need", r"dm(?:'?d|ed)?", r"follow", r"let me know",
                 r"any (?:way|chance|luck|update|news|word)", r"is there", r"help")
# Not gratitude: "no thanks", "thanks to your delay", "thanks for nothing".
NOT_THANKS = re.compile(r"no,? thank(?:s| you)|thanks? to (?:you|your|u|the)|thanks? for nothing")

# Problems that a "thanks" does not cancel: sarcasm such as "thanks for the 3 hour delay".
SARCASM = re.compile(
    r"thanks? (?:a lot )?for (?:nothing|the (?:delay|wait|help))|great job (?:not|in ruin|ruin)|"
    r"(?:great|nice|awesome|amazing) (?:job|work|way) (?:of |on |in )?(?:los|cancel|delay|ruin|"
    r"strand|keep(?:ing)? (?:us|me) wait)|so helpful\W+(?:not|can't|cannot)|"
    r"yeah right|oh great|at (?:its|it's) (?:best|finest)|"
    r"thank(?:s| you) (?:\w+ ){0,1}for (?:\w+ ){0,4}?(?:no|not|nothing|making|leaving|losing|"
    r"ruining|cancel\w*|delay\w*|strand\w*|charging|wasting)\b"
)

EMOJI_POSITIVE = re.compile(
    "[\U0001f600-\U0001f60d\U0001f618\U0001f44d\U0001f64f\u2764\u263a\U0001f389\U0001f496\U0001f499\U0001f60a]"
)
EMOJI_NEGATIVE = re.compile(
    "[\U0001f620\U0001f621\U0001f624\U0001f44e\U0001f612\U0001f62d\U0001f622\U0001f629\U0001f62b\U0001f92c\U0001f644]"
)

QUESTION = re.compile(
    r"\?|^(?:\W*@\w+\s+)*(?:how|what|when|where|which|who|why|is|are|do|does|did|can|could|"
    r"will|would|should|any)\b"
)

