"""One plain sentence for each term a program manager may not know, shown where the term
appears (the pages import these, so the wording is the same everywhere)."""

KAPLAN_MEIER = (
    "A Kaplan–Meier curve estimates how many matches are still going after each day, counting "
    "a match that is still running for as long as it has lasted; it treats a completed match as "
    "if it could still have closed early, so it overstates early closure when many complete."
)
CUMULATIVE_INCIDENCE = (
    "The cumulative incidence is the estimated share of matches that close early within a given "
    "number of days, where completing the program counts as its own ending (a completed match "
    "can no longer close early) and a match still running counts for as long as it has lasted."
)
CRONBACH_ALPHA = (
    "Cronbach's alpha (0 to 1) says how consistently the six questions move together in the same "
    "person's answers: 0.7 or more is usually read as measuring one thing."
)
AUC = (
    "AUC is the chance that a randomly chosen pair that did close early or go quiet got a "
    "higher forecast than one that did not: 0.5 is a coin toss, 1 is perfect."
)
BRIER = (
    "The Brier score is the average squared gap between the forecast probability and what "
    "happened (1 or 0): lower is better, and 0.25 is what always forecasting 50% would score."
)
CALIBRATION = (
    "Calibration compares forecasts with what happened: of the pairs given about 30%, about 30% "
    "should have closed early or gone quiet."
)
TOP_2_BOX = "Top-2 box is the share of answers that are 4 or 5 on the 1–5 scale."
SMART = (
    "A SMART goal here is one with a measure of success written down and a target date, so it "
    "can be judged achieved or overdue."
)
HORIZON = (
    "A goal's horizon is whether the pair meant it for the short term or the long term, as set "
    "when the goal was written."
)
SURVEY_CHANGE = (
    "This is the change among the people who answered both the intake and the closing survey "
    "of the same match, not an effect of the program: those who stay to answer at closing may "
    "differ from those who leave, and answers can move for other reasons."
)
