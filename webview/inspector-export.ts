/**
 * PNG export of a canvas (a chart or a heatmap): drawn over the editor background so the picture reads the same
 * outside VS Code; the host saves it through its save dialog (the webview has no file access).
 */
export function pngOf(canvas: HTMLCanvasElement): string {
  const out = document.createElement('canvas');
  out.width = canvas.width;
  out.height = canvas.height;
  const ctx = out.getContext('2d');
  if (!ctx) return canvas.toDataURL('image/png');
  ctx.fillStyle = getComputedStyle(document.body).getPropertyValue('--vscode-editor-background').trim() || getComputedStyle(document.body).backgroundColor;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(canvas, 0, 0);
  return out.toDataURL('image/png');
}

/** A small "PNG" button that asks for the export of the canvas named `name`. */
export function pngButton(name: string): HTMLElement {
  const b = document.createElement('vscode-button');
  b.setAttribute('secondary', '');
  b.setAttribute('data-png', name);
  b.setAttribute('aria-label', `save ${name} as PNG`);
  b.setAttribute('title', `save ${name} as PNG`);
  b.className = 'png';
  b.textContent = 'PNG';
  return b;
}
