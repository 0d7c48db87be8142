#!/bin/sh
# Recreate every evaluation figure and table of docs/model-card.md (about 3 minutes).
# Usage: sh scripts/model_card_evaluation.sh   (from the repository root)
set -eu
POEMS="${POEMS:-.venv/bin/python -W ignore -m model}"
OUT=docs/evaluation
TMP="${TMPDIR:-/tmp}/poems-model-card"
mkdir -p "$OUT" "$TMP"
SEED=20261124

$POEMS simulate --n 5000 --setting neuropathy_clinic --seed $SEED --no-progress \
  -o "$TMP/synthetic_neuropathy_clinic_n5000.csv"
$POEMS simulate --n 5000 --setting neuropathy_clinic --seed $SEED --missing 0.3 --no-progress \
  -o "$TMP/synthetic_neuropathy_clinic_missing30_n5000.csv"
$POEMS simulate --n 5000 --setting paraproteinemic_neuropathy --seed $SEED --no-progress \
  -o "$TMP/synthetic_paraproteinemic_neuropathy_n5000.csv"

for name in neuropathy_clinic_n5000 neuropathy_clinic_missing30_n5000 paraproteinemic_neuropathy_n5000; do
  $POEMS evaluate "$TMP/synthetic_$name.csv" --label true_diagnosis \
    --plot "$OUT/reliability_$name.png" > "$OUT/synthetic_$name.md"
  $POEMS evaluate "$TMP/synthetic_$name.csv" --label true_diagnosis --json > "$OUT/synthetic_$name.json"
done

.venv/bin/python -W ignore scripts/vignette_cohort.py "$OUT/vignettes_cohort.csv"
.venv/bin/python -W ignore scripts/vignette_cohort.py --teaching "$OUT/teaching_cohort.csv"
for name in vignettes_cohort teaching_cohort; do
  $POEMS evaluate "$OUT/$name.csv" --label published_diagnosis --bins 5 \
    --plot "$OUT/reliability_$name.png" > "$OUT/$name.md"
  $POEMS evaluate "$OUT/$name.csv" --label published_diagnosis --bins 5 --json \
    --rows "$OUT/${name}_rows.csv" > "$OUT/$name.json"
done
$POEMS evaluate --devset --plot "$OUT/reliability_devset.png" > "$OUT/devset.md"
$POEMS evaluate --devset --json --rows "$OUT/devset_rows.csv" > "$OUT/devset.json"
$POEMS evaluate --devset --setting neuropathy_clinic --json > "$OUT/devset_neuropathy_clinic.json"
echo "written to $OUT"
