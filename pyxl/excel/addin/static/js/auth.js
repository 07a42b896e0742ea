// Sign-in for every call: Entra ID for an office, or the access code `pyxl serve` printed.
globalThis.getAuth = async function () {
  const providers = (globalThis.config && globalThis.config.authProviders) || [];
  if (providers.includes("entraid")) {
    return { token: await xlwings.getAccessToken(), provider: "entraid" };
  }
  if (providers.includes("pyxl")) {
    return { token: localStorage.getItem("pyxl-access-code") || "", provider: "pyxl" };
  }
  return { token: "", provider: "" };
};
