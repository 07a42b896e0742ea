// Ribbon commands (manifest FunctionName = button id), from the same registry as the task pane.
// A button with a form opens the task pane; one that answers there (a preview, a download)
// opens it and runs; the others run their script straight away.
(function () {
  const element = document.getElementById("pyxl-buttons");
  if (!element || !globalThis.Office || !Office.actions) return;
  const buttons = JSON.parse(element.textContent).filter((b) => b.ribbon);
  Office.onReady(() => {
    for (const button of buttons) {
      Office.actions.associate(button.id, async (event) => {
        try {
          if (button.form) {
            await Office.addin.showAsTaskpane();
          } else if (button.pane) {
            await Office.addin.showAsTaskpane();
            await globalThis.pyxl.run(button);
          } else {
            await globalThis.pyxl.run(button);
          }
        } finally {
          event.completed();
        }
      });
    }
  });
})();
