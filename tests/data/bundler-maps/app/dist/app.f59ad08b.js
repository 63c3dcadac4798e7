document.title="hello",window.send=x=>fetch("/x",{headers:{"x-api-key":"KEYSWEEP_PLANT_code_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},body:x});
//# sourceMappingURL=app.f59ad08b.js.map
