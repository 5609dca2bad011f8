// An init script, run before any script of the page: the page's clock is
// wrong by SKEW_MS (a device set to the wrong time), and every event the
// tracker queues is reported to the test (csTestCreated, a Playwright
// binding), so the test knows each event_id the page made, including those
// made while the tab closes or reloads.
(() => {
  const skewMs = SKEW_MS;
  const RealDate = Date;
  class SkewedDate extends RealDate {
    constructor(...args) {
      if (args.length) super(...args);
      else super(RealDate.now() + skewMs);
    }
    static now() {
      return RealDate.now() + skewMs;
    }
  }
  window.Date = SkewedDate;

  const reported = new Set();
  const report = (queue) => {
    for (const event of JSON.parse(queue || '[]')) {
      if (!reported.has(event.event_id)) {
        reported.add(event.event_id);
        window.csTestCreated(event);
      }
    }
  };
  // What the previous document queued as it went away (its reports may not
  // have left before it was torn down).
  try {
    report(localStorage.getItem('cs_queue'));
  } catch {
    // a document without storage (about:blank): nothing was queued there
  }
  const setItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    setItem.call(this, key, value);
    if (key == 'cs_queue') report(value);
  };
})();
