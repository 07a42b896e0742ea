// A stand-in for the Office host, served instead of office.js when the task pane is loaded
// in headless Chromium: the page under test is pyxl's (and xlwings'), not Excel. Every
// Excel object is a chainable proxy; what the add-in registers is recorded on `office`.
(function () {
  const record = (globalThis.office = { ribbon: {}, functions: {}, selectionHandlers: [] });
  const known = {
    name: "caseload.xlsx",
    shortDatePattern: "M/d/yyyy",
    isNullObject: false,
    items: [],
    address: "Clients!A5",
    position: 0,
    values: [[null]],
  };
  function excelObject() {
    return new Proxy(function () {}, {
      get(_, prop) {
        if (prop === "then" || prop === "toJSON" || typeof prop === "symbol") return undefined;
        if (prop in known) return known[prop];
        if (prop === "sync") return async () => undefined;
        if (prop === "add") {
          return (handler) => {
            record.selectionHandlers.push(handler);
            return excelObject();
          };
        }
        return excelObject();
      },
      apply() {
        return excelObject();
      },
      construct() {
        return excelObject();
      },
    });
  }
  const info = { host: "Excel", platform: "PC" };
  globalThis.Office = {
    HostType: { Excel: "Excel" },
    PlatformType: { PC: "PC" },
    onReady(callback) {
      if (callback) callback(info);
      return Promise.resolve(info);
    },
    context: {
      requirements: { isSetSupported: () => true },
      displayLanguage: "en-US",
      contentLanguage: "en-US",
      diagnostics: { version: "16.0", platform: "PC" },
    },
    actions: { associate: (id, handler) => (record.ribbon[id] = handler) },
    addin: { showAsTaskpane: async () => undefined },
  };
  class CustomFunctionsError {
    constructor(code, message) {
      this.code = code;
      this.message = message;
    }
  }
  globalThis.CustomFunctions = {
    associate: (id, handler) => (record.functions[id] = handler),
    Error: CustomFunctionsError,
    ErrorCode: { invalidValue: "#VALUE!", notAvailable: "#N/A", invalidNumber: "#NUM!" },
  };
  globalThis.Excel = {
    run: async (...args) => args[args.length - 1](excelObject()),
    RequestContext: function () {
      return excelObject();
    },
    ShapeType: { image: "Image" },
  };
})();
