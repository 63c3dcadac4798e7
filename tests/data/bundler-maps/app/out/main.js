var x="KEYSWEEP_PLANT_code_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";var o="hello";document.title=o;window.send=(e)=>fetch("/x",{headers:{"x-api-key":x},body:e});

//# debugId=E17F0A05D78ADACA64756E2164756E21
//# sourceMappingURL=main.js.map
