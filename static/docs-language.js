// The API docs' page language (axe: html-has-lang), from the meta tag the server filled in.
document.documentElement.lang = document.querySelector('meta[name="page-language"]').content;
