type ElementClass<T extends Element> = { new (): T; prototype: T };

/**
 * The element of a page's static HTML with this data-testid, of this type. The ids are the pages'
 * stable handles for code and tests alike; a missing one is a bug in the page's index.html.
 */
export function byTestId<T extends Element>(id: string, type: ElementClass<T>, root: ParentNode = document): T {
  const element = root.querySelector(`[data-testid="${id}"]`);
  if (!(element instanceof type)) throw new Error(`PushCam: no ${type.name} with data-testid="${id}"`);
  return element;
}
