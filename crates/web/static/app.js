// diembao: keyboard shortcuts of the review queue. The pages work without this script.
//   j / k  next / previous candidate      c  confirm (with the note typed, if any)
//   d      dismiss                        a  assign to me
//   n      write a note                   o  open the document
(function () {
  "use strict";
  var queue = document.getElementById("queue");
  if (!queue) {
    return;
  }
  var items = Array.prototype.slice.call(queue.querySelectorAll(".candidate"));
  if (items.length === 0) {
    return;
  }
  var current = 0;
  items.forEach(function (item, i) {
    if (item.classList.contains("selected")) {
      current = i;
    }
  });

  function select(i) {
    if (i < 0 || i >= items.length) {
      return;
    }
    items[current].classList.remove("selected");
    current = i;
    items[current].classList.add("selected");
    items[current].scrollIntoView({ block: "nearest" });
  }

  function press(selector) {
    var button = items[current].querySelector(selector);
    if (button) {
      button.click();
    }
  }

  select(current);
  items.forEach(function (item, i) {
    item.addEventListener("click", function () {
      select(i);
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    var target = event.target;
    var tag = target && target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable)) {
      if (event.key === "Escape" && target.blur) {
        target.blur();
      }
      return;
    }
    switch (event.key) {
      case "j":
        select(current + 1);
        break;
      case "k":
        select(current - 1);
        break;
      case "c":
        press('button[name="decision"][value="confirm"]');
        break;
      case "d":
        press('button[name="decision"][value="dismiss"]');
        break;
      case "a":
        press("button.assign");
        break;
      case "n": {
        var note = items[current].querySelector('input[name="note"]');
        if (note) {
          note.focus();
        }
        break;
      }
      case "o":
        press("a.open");
        break;
      default:
        return;
    }
    event.preventDefault();
  });
})();
