// The graphs the history keeps, with the names, titles, labels and legends of TrueNAS's netdata
// graph plugins (plugins/reporting/netdata/graphs.py), so reporting.graphs and get_data answer
// as there. `pool` is Midship's own: TrueNAS keeps pool usage only for reporting.realtime.

export interface GraphDef {
  name: string;
  /** As TrueNAS sends it, placeholder included ("Disk I/O ({identifier})"). */
  title: string;
  vertical_label: string;
  usesIdentifiers: boolean;
  /** Series names after "time"; null where they depend on the host (one per CPU). */
  legend: string[] | null;
  /** Zero means "no reading" (temperatures): left out of min/mean/max. */
  skipZeroInAggregation: boolean;
}

const def = (name: string, title: string, vertical_label: string, usesIdentifiers: boolean, legend: string[] | null, skipZeroInAggregation = false): GraphDef =>
  ({ name, title, vertical_label, usesIdentifiers, legend, skipZeroInAggregation });

export const GRAPHS: readonly GraphDef[] = [
  def('cpu', 'CPU Usage', '%CPU', false, null),
  def('cputemp', 'CPU Temperature', 'Celsius', false, null, true),
  def('memory', 'Physical memory available', 'Bytes', false, ['available']),
  def('disk', 'Disk I/O ({identifier})', 'Kibibytes/s', true, ['reads', 'writes']),
  def('interface', 'Interface Traffic ({identifier})', 'Kilobits/s', true, ['received', 'sent']),
  def('load', 'System Load Average', 'Load', false, ['shortterm', 'midterm', 'longterm']),
  def('uptime', 'System Uptime', 'Seconds', false, ['uptime']),
  def('arcsize', 'ARC Size', 'bytes', false, ['size']),
  def('pool', 'Pool Usage ({identifier})', 'Bytes', true, ['available', 'used', 'total']),
];

export function graphDef(name: string): GraphDef | undefined {
  return GRAPHS.find((g) => g.name === name);
}
