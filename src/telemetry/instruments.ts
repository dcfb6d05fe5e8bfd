// Typed instruments created from catalog rows: a label outside the row's `labels` is a compile error,
// and preset label values are exposed at 0 from start.
import type { Attributes, Meter } from '@opentelemetry/api';
import type { LabelsOf, MetricDef } from './catalog.js';

export interface TypedCounter<D extends MetricDef> {
  add(value: number, labels: LabelsOf<D>): void;
}
export interface TypedHistogram<D extends MetricDef> {
  record(value: number, labels: LabelsOf<D>): void;
}
export interface TypedGauge<D extends MetricDef> {
  record(value: number, labels: LabelsOf<D>): void;
}

/** OTel instrument name: the scraped name without the `_total` the Prometheus exporter appends. */
export function instrumentName(def: MetricDef): string {
  return def.kind === 'counter' ? def.name.replace(/_total$/, '') : def.name;
}

export function createCounter<D extends MetricDef>(meter: Meter, def: D): TypedCounter<D> {
  const counter = meter.createCounter(instrumentName(def), { description: def.help, unit: def.unit });
  for (const labels of presetCombinations(def)) counter.add(0, labels);
  return { add: (value, labels) => counter.add(value, labels) };
}

export function createHistogram<D extends MetricDef>(meter: Meter, def: D): TypedHistogram<D> {
  const histogram = meter.createHistogram(instrumentName(def), {
    description: def.help,
    unit: def.unit,
    ...(def.buckets === undefined ? {} : { advice: { explicitBucketBoundaries: [...def.buckets] } }),
  });
  return { record: (value, labels) => histogram.record(value, labels) };
}

export function createGauge<D extends MetricDef>(meter: Meter, def: D): TypedGauge<D> {
  const gauge = meter.createGauge(instrumentName(def), { description: def.help, unit: def.unit });
  return { record: (value, labels) => gauge.record(value, labels) };
}

/** A label-less gauge read at collection time (scrape or push). */
export function createObservedGauge(meter: Meter, def: MetricDef, read: () => number): void {
  meter
    .createObservableGauge(instrumentName(def), { description: def.help, unit: def.unit })
    .addCallback((result) => result.observe(read()));
}

/** A gauge read at collection time as (labels, value) pairs; preset label sets not read report 0. */
export function createObservedLabelledGauge<D extends MetricDef>(
  meter: Meter,
  def: D,
  read: () => Iterable<readonly [LabelsOf<D>, number]>,
): void {
  const presets = presetCombinations(def);
  meter.createObservableGauge(instrumentName(def), { description: def.help, unit: def.unit }).addCallback((result) => {
    const seen = new Set<string>();
    for (const [labels, value] of read()) {
      const attributes = labels as Attributes;
      seen.add(JSON.stringify(attributes));
      result.observe(value, attributes);
    }
    for (const labels of presets) if (!seen.has(JSON.stringify(labels))) result.observe(0, labels);
  });
}

/** The row's preset label sets: listed ones as they are, else the Cartesian product of the values ([] when none). */
export function presetCombinations(def: MetricDef): Attributes[] {
  const preset = def.preset;
  if (preset === undefined) return def.labels.length === 0 ? [{}] : [];
  if (isLabelSetList(preset)) return preset.map((labels) => ({ ...labels }));
  let combos: Attributes[] = [{}];
  for (const label of def.labels) {
    const values = preset[label];
    if (values === undefined) return [];
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [label]: v })));
  }
  return combos;
}

function isLabelSetList(
  preset: NonNullable<MetricDef['preset']>,
): preset is readonly Readonly<Record<string, string>>[] {
  return Array.isArray(preset);
}
