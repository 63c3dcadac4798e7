export async function POST(req: Request) {
  return fetch("https://api.anthropic.com/v1/messages", {
    method: "POST",
    headers: {
      "x-api-key": process.env.ANTHROPIC_API_KEY ?? "",
      "anthropic-dangerous-direct-browser-access": "true",
    },
    body: await req.text(),
  });
}
