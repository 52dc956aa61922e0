"""Free-text vocabulary: meeting topics and notes, goals, survey comments.

Some texts name people ({mentor}, {mentee}): notes and comments are personal data on purpose.
Several comments hold commas, quotes and line breaks to exercise RFC 4180 quoting.
"""

TOPICS = (
    "career_goals",
    "skills",
    "networking",
    "feedback",
    "leadership",
    "promotion",
    "project_review",
    "work_life_balance",
    "onboarding",
    "wellbeing",
    "stakeholders",
    "public_speaking",
)

MEETING_NOTES = (
    "Talked about the promotion path",
    "Reviewed {mentee}'s draft for the architecture review",
    "{mentee} wants more visibility with the leadership team",
    "Shared two books on feedback; follow up next time",
    "Mock interview for the team lead role, went well",
    "{mentor} will introduce {mentee} to the platform team",
    "Discussed workload: {mentee} is close to burnout, agreed to talk to the manager",
    "Role-played a difficult conversation",
    "Went through the quarterly goals together",
    "Café chat, mostly about relocation to Lisbon",
    "Prepared the talk for the all-hands — slides look good",
    "{mentee} got the stretch assignment!",
)

CANCEL_NOTES = (
    "Sick leave",
    "Clash with a customer visit",
    "{mentor} travelling",
    "Parental leave starts early",
    "Release week, no time",
)

# Goal titles and measures by category.
GOAL_TITLES = {
    "skill": (
        "Lead a design review",
        "Improve public speaking",
        "Learn to give constructive feedback",
        "Get comfortable with SQL and dashboards",
        "Write clearer technical proposals",
        "Run effective one-on-ones",
    ),
    "network": (
        "Build a network in the platform team",
        "Meet three senior leaders outside my department",
        "Join a community of practice",
        "Find a sponsor for my next role",
    ),
    "career": (
        "Prepare for promotion to senior",
        "Explore a move into product management",
        "Apply for the team lead role",
        "Define my five-year career plan",
    ),
    "wellbeing": (
        "Set boundaries on after-hours work",
        "Take all my holidays this year",
        "Reduce meeting load by a third",
    ),
    "other": (
        "Organise a brown-bag session",
        "Mentor an intern next summer",
        "Write a post for the engineering blog",
    ),
}

GOAL_MEASURES = {
    "skill": (
        "One review led end to end",
        "Speak at two internal events",
        "Positive feedback from three peers",
        "Ship one dashboard used weekly",
    ),
    "network": (
        "Five new contacts met in person",
        "Regular monthly lunch with a sponsor",
        "Attend four community sessions",
    ),
    "career": (
        "Promotion case submitted",
        "Shadow a product manager for a month",
        "Written plan reviewed with my manager",
    ),
    "wellbeing": (
        "No e-mails after 7 pm for a month",
        "All holidays booked by June",
        "Calendar audit shows 30% fewer meetings",
    ),
    "other": ("Session held with 20+ attendees", "Post published", "Intern onboarded"),
}

POSITIVE_COMMENTS = (
    "Very helpful, thank you",
    "Great sessions, very practical advice",
    '{mentor} is brilliant: honest, kind and "no-nonsense"',
    "Loved it.\nWould sign up again next year.",
    "The best part of my month, honestly",
    "Helpful for my promotion case, and for confidence",
    "Merci ! Très utile.",
    "非常有帮助，谢谢",
)

NEUTRAL_COMMENTS = (
    "OK so far",
    "Good, but hard to find time",
    "Useful, though we mostly talk about the same things",
    "Fine. Could use more structure:\n- an agenda\n- follow-ups",
    'Meetings are "fine", nothing more',
)

NEGATIVE_COMMENTS = (
    "We have not met in weeks",
    "{mentee} keeps cancelling, not sure it is working",
    "Not a good match, different expectations",
    "Too busy; the program needs protected time, not just good intentions",
    'I was told it would be "light touch". It is not.',
    "Meetings kept getting moved.\nEventually we stopped.",
)
