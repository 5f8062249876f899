<!-- app.js {{csrf}} -->
