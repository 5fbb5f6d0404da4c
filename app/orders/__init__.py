"""Orders a club decided to place. Today only what an approved investment proposal creates (an
order waiting for the treasurer); execution, fills and cancels come with the market issue."""
