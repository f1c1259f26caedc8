DROP TABLE participant_editions;
