import sharp from 'sharp';

/**
 * facepipe's icon: a face in a frame (the dashboard's header colours). Served as /favicon.svg,
 * which the dashboard's pages link, and as a 32 px PNG at /favicon.ico, which browsers ask for
 * by themselves on every other page (the API description, /metrics, a JSON answer).
 */
export const faviconSvg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="6" fill="#1d232a"/>
<path d="M4 10V4h6M22 4h6v6M28 22v6h-6M10 28H4v-6" fill="none" stroke="#9cd1ff" stroke-width="2.5" stroke-linecap="round"/>
<circle cx="16" cy="16" r="7.5" fill="#f5f6f8"/>
<circle cx="13.3" cy="14.6" r="1.2" fill="#1d232a"/>
<circle cx="18.7" cy="14.6" r="1.2" fill="#1d232a"/>
<path d="M12.8 18.4q3.2 2.6 6.4 0" fill="none" stroke="#1d232a" stroke-width="1.3" stroke-linecap="round"/>
</svg>
`;

/** The links every page of the service puts in its head. */
export const faviconLinks = '<link rel="icon" type="image/svg+xml" href="/favicon.svg"><link rel="alternate icon" type="image/png" href="/favicon.ico">';

let png: Promise<Buffer> | undefined;

/** The icon as a 32×32 PNG (rendered once, on first use). */
export function faviconPng(): Promise<Buffer> {
  png ??= sharp(Buffer.from(faviconSvg)).resize(32, 32).png().toBuffer();
  return png;
}
