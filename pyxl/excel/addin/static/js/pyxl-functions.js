// PYXL functions return error cells with a message ({type: "Error", errorType, message}).
// Excel shows a message only on a CustomFunctions.Error, so every PYXL function's result
// is passed through this before Excel sees it (an error per cell, the rest unchanged).
(function () {
  const CF = globalThis.CustomFunctions;
  if (!CF || typeof CF.associate !== "function") return;
  const codes = { Value: "invalidValue", NotAvailable: "notAvailable", Num: "invalidNumber" };
  function convert(value) {
    if (Array.isArray(value)) return value.map(convert);
    if (value && value.type === "Error" && typeof value.message === "string") {
      const code = CF.ErrorCode[codes[value.errorType]] || CF.ErrorCode.invalidValue;
      return new CF.Error(code, value.message);
    }
    return value;
  }
  const associate = CF.associate.bind(CF);
  CF.associate = function (id, fn) {
    if (typeof id !== "string" || typeof fn !== "function") return associate(id, fn);
    return associate(id, async function () {
      return convert(await fn.apply(this, arguments));
    });
  };
})();
