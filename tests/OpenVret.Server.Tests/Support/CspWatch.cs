using Microsoft.Playwright;

namespace OpenVret.Server.Tests.Support;

/// <summary>
/// Collects what a page's Content-Security-Policy refused: the page's securitypolicyviolation events (reported through
/// a binding, which the policy does not govern) and Chromium's console reports of them.
/// </summary>
public static class CspWatch
{
    public static async Task<List<string>> AttachAsync(IPage page)
    {
        var violations = new List<string>();
        await page.ExposeFunctionAsync("__openvretCspViolation", (string s) => { lock (violations) violations.Add(s); });
        await page.AddInitScriptAsync("""
            document.addEventListener("securitypolicyviolation", e =>
              window.__openvretCspViolation(`${e.violatedDirective} refused ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`));
            """);
        page.Console += (_, m) =>
        {
            if (m.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)) lock (violations) violations.Add(m.Text);
        };
        return violations;
    }
}
