// Where a new training monitor opens. Each run the extension starts opens its monitor by itself; opened
// "beside" the active editor every time, a third run's monitor lands in a third column, and narrow
// columns cut off the charts' controls. New monitors therefore join the editor group the open monitors
// are in (the one opened last when they are spread over several), and only the first opens beside.

/** The view column for a new monitor given those of the monitors open, oldest first; 'beside' when none has one. */
export function monitorColumn(openColumns: readonly (number | undefined)[]): number | 'beside' {
  for (let i = openColumns.length - 1; i >= 0; i--) {
    const column = openColumns[i];
    if (column !== undefined && column > 0) return column;
  }
  return 'beside';
}
