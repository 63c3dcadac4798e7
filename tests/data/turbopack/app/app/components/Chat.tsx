"use client";
import { useState } from "react";

const firebaseConfig = {
  apiKey: "KEYSWEEP_PLANT_firebase_xxxxxxxxxxxxxxx",
  authDomain: "demo-chat-4821.firebaseapp.com",
  projectId: "demo-chat-4821",
  messagingSenderId: "418204117623",
  appId: "1:418204117623:web:5a0c2f4e9b1d7c3e",
};

const anthropicKey = "KEYSWEEP_PLANT_code_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
(globalThis as any).firebaseConfig = firebaseConfig;

export default function Chat() {
  const [reply, setReply] = useState("");
  async function send() {
    const r = await fetch("https://api.openai.com/v1/responses", {
      method: "POST",
      headers: { Authorization: `Bearer ${process.env.NEXT_PUBLIC_PLANTED_ENV_XX}` },
    });
    const a = await fetch("https://api.anthropic.com/v1/models", { headers: { "x-api-key": anthropicKey } });
    setReply((await r.text()) + (await a.text()));
  }
  return (
    <div data-project={firebaseConfig.projectId} data-k={anthropicKey.length}>
      <button onClick={send}>Send</button>
      <p>{reply}</p>
    </div>
  );
}
