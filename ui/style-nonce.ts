// The page's Content-Security-Policy admits <style> elements only with the nonce of the response
// that served the page (daemon/ui.ts). xterm.js makes style elements of its own (its DOM
// renderer's theme and sizes) and cannot be told a nonce: this stamps every <style> the page
// creates with it, at creation, before it is inserted (a nonce set later is not honoured).

let installed = false;

export function allowStyleElements(): void {
  if (installed) return;
  installed = true;
  const nonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content;
  if (!nonce) return;
  const create = Document.prototype.createElement;
  Document.prototype.createElement = function (this: Document, tag: string, options?: ElementCreationOptions) {
    const el = create.call(this, tag, options);
    if (tag.toLowerCase() === 'style') el.setAttribute('nonce', nonce);
    return el;
  } as typeof Document.prototype.createElement;
}
