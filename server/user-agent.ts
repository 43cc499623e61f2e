/** "Chrome on Linux", "Safari on iOS", "ffmpeg", "VLC": enough to tell viewers apart in a list. */
export function describeUserAgent(ua: string): string {
  if (!ua) return 'unknown client';
  const tool = /^(Lavf|VLC|curl|Wget|python-requests|Home Assistant|OctoPrint|okhttp)[/ ]?/i.exec(ua);
  if (tool) return tool[1] === 'Lavf' ? 'ffmpeg' : tool[1];
  const browser =
    /Edg\//.test(ua) ? 'Edge'
    : /OPR\//.test(ua) ? 'Opera'
    : /Firefox\/|FxiOS/.test(ua) ? 'Firefox'
    : /Chrome\/|CriOS|Chromium\//.test(ua) ? 'Chrome'
    : /Safari\//.test(ua) ? 'Safari'
    : null;
  const os =
    /iPhone|iPad|iPod/.test(ua) ? 'iOS'
    : /Android/.test(ua) ? 'Android'
    : /Windows/.test(ua) ? 'Windows'
    : /Mac OS X|Macintosh/.test(ua) ? 'macOS'
    : /CrOS/.test(ua) ? 'ChromeOS'
    : /Linux/.test(ua) ? 'Linux'
    : null;
  if (!browser) return ua.split(/[ /]/)[0].slice(0, 40);
  return os ? `${browser} on ${os}` : browser;
}
