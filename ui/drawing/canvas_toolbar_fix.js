// streamlit-drawable-canvas 0.13 keeps its hidden toolbar (opacity 0) over the top-right corner
// of the canvas until the pointer has rested on the canvas for 0.2 s, so a stroke started there
// at once (and every touch there: touch screens have no hover) lands on the invisible toolbar and
// is lost. The canvas lives in a shadow root that page CSS cannot reach; this adds a style to each
// shadow root that keeps the toolbar above the canvas and lets pointer events through it while it
// is hidden. (`!important`: the component's own sheet is adopted, and adopted sheets come after 
// shadow root's own style elements in the cascade.)
(() => {
  const css = `.dc-toolbar{top:-2.65rem !important;padding-bottom:0 !important;pointer-events:none}
    .dc-root:hover>.dc-toolbar,.dc-toolbar:focus-within,.dc-toolbar[data-pinned=true]{pointer-events:auto}`;
  const patch = () => document.querySelectorAll("*").forEach((host) => {
    const root = host.shadowRoot;  // the style only names the canvas's classes: any root may get it
    if (root && !root.querySelector("style[data-toolbar-fix]")) {
      const style = document.createElement("style");
      style.dataset.toolbarFix = "";
      style.textContent = css;
      root.appendChild(style);
    }
  });
  patch();
  if (!window.canvasToolbarFix) {  // a new canvas (Clear makes one) may open its shadow root late
    window.canvasToolbarFix = new MutationObserver(() => { patch(); setTimeout(patch, 300); });
    window.canvasToolbarFix.observe(document.body, {childList: true, subtree: true});
  }
})();
