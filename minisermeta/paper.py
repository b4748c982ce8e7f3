"""The numbers published in Fujioka et al. (ICASSP 2020), for side-by-side reports.

Percentages as printed; ``None`` where the paper prints N/A. Rows marked as
quoted in :data:`QUOTED` are numbers the paper itself only quoted from other
papers (Soft-target [15], Cycle-GAN [16]).
"""

EMOTIONS = ("happiness", "sadness", "neutral", "anger")

# Table 1: utterances per emotion and speaker (IEMOCAP, excited not merged).
TABLE1 = {
    "Ses01F": (69, 78, 171, 147),
    "Ses01M": (66, 116, 213, 82),
    "Ses02F": (70, 113, 135, 67),
    "Ses02M": (47, 84, 227, 70),
    "Ses03F": (80, 172, 130, 92),
    "Ses03M": (55, 133, 190, 148),
    "Ses04F": (31, 62, 76, 205),
    "Ses04M": (34, 81, 182, 122),
    "Ses05F": (77, 132, 221, 78),
    "Ses05M": (66, 113, 163, 92),
}

# Table 2: per class (P, R, F1) in EMOTIONS order, then WA, UA.
TABLE2 = {
    "blstm_att": ((38.8, 35.3, 35.2), (64.5, 68.2, 65.0), (65.1, 58.3, 60.9), (73.0, 76.1, 74.0), 63.6, 59.5),
    "oversampling": ((42.6, 36.0, 36.5), (62.8, 62.2, 61.4), (63.7, 59.6, 60.1), (74.3, 78.6, 75.5), 63.5, 59.1),
    "undersampling": ((35.4, 34.7, 34.4), (64.5, 63.1, 62.9), (64.9, 61.2, 62.4), (73.3, 74.4, 72.7), 63.2, 58.4),
    "soft_target": ((None,) * 3, (None,) * 3, (None,) * 3, (None,) * 3, 62.6, 63.7),
    "cycle_gan": ((None, 54, None), (None, 69, None), (None, 51, None), (None, 69, None), None, 60.4),
    "L": ((44.9, 24.1, 28.4), (62.8, 70.2, 65.3), (63.0, 66.4, 63.9), (75.9, 75.9, 75.1), 64.7, 59.2),
    "w": ((45.4, 30.5, 34.7), (61.9, 71.7, 65.3), (63.8, 63.7, 63.1), (78.3, 77.2, 77.2), 65.2, 60.8),
    "L_w_pretrained": ((51.0, 22.6, 29.4), (62.7, 68.8, 65.1), (58.9, 65.4, 61.6), (75.6, 74.9, 74.7), 64.4, 57.9),
    "L_w": ((53.4, 30.2, 35.7), (62.8, 74.1, 67.1), (64.1, 63.7, 63.3), (75.7, 77.6, 75.9), 65.9, 61.4),
}

# Table 2's row names, in the paper's order.
METHOD_NAMES = {
    "blstm_att": "BLSTM + ATT",
    "oversampling": "BLSTM + ATT + Oversampling",
    "undersampling": "BLSTM + ATT + Undersampling",
    "soft_target": "Soft-target",
    "cycle_gan": "Cycle-GAN",
    "L": "BLSTM + ATT + L",
    "w": "BLSTM + ATT + w",
    "L_w_pretrained": "BLSTM + ATT + L + w pretrained",
    "L_w": "BLSTM + ATT + L + w",
}

QUOTED = frozenset({"soft_target", "cycle_gan"})

# Table 3: mean w_n per class in BLSTM + L + w, before and after training.
TABLE3 = {"initial": (0.53, 0.97, 1.52, 0.98), "learned": (1.32, 0.92, 1.08, 0.84)}

# Fig. 3 (label updates of BLSTM + L + w) is a heatmap whose cells the paper prints nowhere; section 4 reads
# three of its moves in words: gold -> learned class, percent of the gold class, as worded there.
FIG3_READ = {
    ("happiness", "happiness"): (50.0, "\"only in around half of the cases the label happiness was kept\""),
    ("anger", "neutral"): (10.0, "\"in around 10% of the cases, anger was updated to neutral\""),
    ("neutral", "sadness"): (10.0, "\"while neutral was updated to sadness\" (the same 10 %)"),
}
