import { anthropicKey } from "./key.js";
const greeting = "hello";
document.title = greeting;
window.send = (m) => fetch('/x', { headers: { 'x-api-key': anthropicKey }, body: m });
