// htm bound to preact: tagged templates instead of JSX, so the browser needs no build step of its
// own. Interpolated values become text nodes or attribute values, never markup.
import { h, type VNode } from 'preact';
import htm from 'htm';

type H = (type: unknown, props: Record<string, unknown> | null, ...children: unknown[]) => VNode;

export const html = htm.bind(h as unknown as H) as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;
